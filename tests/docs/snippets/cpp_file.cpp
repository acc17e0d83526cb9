// snippet-mode: compile
// Declarations and definitions at file scope.
#include "prelude.hpp"

// @SNIPPET@
