// SwiftPM needs one source file per C target; everything lives in the header as inline functions.
#include "CSynapse.h"
