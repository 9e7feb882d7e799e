"""Dialogue agent: the instruction classifier, the LangGraph state machine and the service facade."""
