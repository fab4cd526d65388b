"""The HTTP API: HTTP in, application calls, HTTP out. It holds no rule of its own."""
