"""The CLI's commands, one module each; evalkit/cli.py registers them on the app."""
