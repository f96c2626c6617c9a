"""The MCP server: tools for agents over the official MCP SDK, behind the guardrails."""
