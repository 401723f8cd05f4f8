#include "conf/config.h"
