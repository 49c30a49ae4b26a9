"""Reports: one frame of runs -> leaderboard tables and figures in Markdown, HTML, CSV and LaTeX."""
