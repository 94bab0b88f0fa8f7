/*
** unity_hot.c: the path every observation takes (the exported calls, elements, the
** state machine, the event queue and its JSON writer) as one translation unit. The
** shipped .wasm builds it -O2 and the rest (src/unity.c with IMP_HOT_APART) -Oz: the
** state machine, the queue and the writer inlined into the exported calls take an
** observation from about 2.6x to about 1.8x the native time, for about 1.5 KiB of
** gzip (tests/README.md "Core alone"). Everything else stays built for size.
*/
#include "api.c"
#include "element.c"
#include "visibility.c"
#include "queue.c"
#include "json.c"
