"""One reader per container format. Each walks headers only through a bounded Source and appends Hits."""
