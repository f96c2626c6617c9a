from trimtab.interfaces.cli.app import main

main()
