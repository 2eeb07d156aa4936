"""Topic alerts: people subscribe per topic; staff send paced, approved announcements."""
