"""Widgets of the chat app: chat log, edit progress, image pane and history tree."""
