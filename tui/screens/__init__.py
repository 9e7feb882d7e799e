"""Screens of the chat app: the main screen, dialogs (export, branch), help and the session picker."""
