"""Reading stored runs back and presenting them: tables, plots, the HTML leaderboard, rebuilt prompts."""
