"""Server-rendered pages, templates, components and static files."""
