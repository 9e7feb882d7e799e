"""Labelled data and the trained model of the instruction classifier (package data)."""
