// snippet-mode: compile
// Statements, inside a function.
#include "prelude.hpp"

void documentation_example();
void documentation_example() {
    // @SNIPPET@
}
