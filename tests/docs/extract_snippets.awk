# Prints the code of every ```cpp block in a Markdown file that directly
# follows a line "<!-- compiled: NAME -->" (NAME given with -v name=...), so
# the build can compile documentation examples as they are written.
# usage: awk -v name=NAME -f extract_snippets.awk FILE.md
$0 == "<!-- compiled: " name " -->" { armed = 1; next }
armed && $0 == "```cpp" { inside = 1; armed = 0; printf "#line %d \"%s\"\n", NR + 1, FILENAME; next }
inside && $0 == "```" { inside = 0; next }
inside { print; next }
{ armed = 0 }
