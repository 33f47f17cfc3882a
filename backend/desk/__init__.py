"""Assisted digital: desk staff help people with low digital skills, only within a session the person started."""
