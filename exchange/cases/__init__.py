"""Collaborative cases between a submitter and a receiver member."""
