"""End-to-end tests through Microsoft 365 Agents Playground (marker `playground`)."""
