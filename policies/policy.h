// The policy engine's public surface, in one include: the model (model.h), parsing and limits
// (parse.h), evaluation and explanation (evaluate.h), reference sets (reference_sets.h) and
// key globs (glob.h). The format is documented in policies/README.md.
#pragma once

#include "policies/evaluate.h"
#include "policies/glob.h"
#include "policies/model.h"
#include "policies/parse.h"
#include "policies/reference_sets.h"
