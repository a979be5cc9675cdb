"""Published support processes: severities, commitments, coverage, intake, escalation."""
