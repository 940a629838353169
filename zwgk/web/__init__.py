"""The small completion web app (完成情况填报) units reach from their mail."""
