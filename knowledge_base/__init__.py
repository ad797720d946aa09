"""Knowledge base: articles, search index, suggestions."""
