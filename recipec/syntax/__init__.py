"""Text -> YAML node tree with spans (`loader`), Markdown front matter (`frontmatter`), and the
`eval()` expression language (`expr.lark`, `expr`)."""
