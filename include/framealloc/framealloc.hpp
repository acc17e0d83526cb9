// framealloc: everything a kernel needs, in one include.
#pragma once

#include "framealloc/address.hpp"
#include "framealloc/allocator.hpp"
#include "framealloc/allocator_types.hpp"
#include "framealloc/frame.hpp"
#include "framealloc/frames.hpp"
#include "framealloc/global.hpp"
#include "framealloc/hooks.hpp"
#include "framealloc/lock.hpp"
#include "framealloc/region.hpp"
#include "framealloc/result.hpp"
#include "framealloc/span.hpp"
