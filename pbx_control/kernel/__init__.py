"""The shared kernel every feature may use: domain errors, database helpers, identifier patterns."""
