// HPKE implementation: see core/hpke.h.
#include "core/hpke.h"
