"""Screens and modal dialogs of the dashboard, one per module."""
