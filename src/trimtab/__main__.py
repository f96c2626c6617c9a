from trimtab.interfaces.cli import main

main()
