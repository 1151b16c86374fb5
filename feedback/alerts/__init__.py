"""Webhook alerts: an owner hears of a low score or an unhappy comment as it arrives."""
