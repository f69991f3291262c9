"""The Tuneline language server (`tuneline serve`): lint as you type, explain, fix.

Entry point: `tuneline.lsp.server.main`. No module here imports torch, transformers or peft.
"""
