"""Personalised messages for the action lists (moodle-messages).

lists.py reads a list (deadline reminders, upgrade and next-course outreach)
from the warehouse, templates.py renders one message per learner from an
editable template, delivery.py writes them as .eml files ready to send or
sends them through an SMTP server configured by environment variables.
"""
