/*
** harness.h: a tiny TAP harness for the native tests.
**
** CHECK(cond, fmt, ...) prints "ok k - name" or "not ok k - name" followed by
** "# file:line"; CHECK_INT and CHECK_STR also print what they got and wanted.
** test_done() prints the plan "1..N" (TAP allows it last) and
** "# N passed, M failed", and returns the exit status: 1 when anything failed.
*/
#ifndef IMP_TEST_HARNESS_H
#define IMP_TEST_HARNESS_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int th_run, th_failed;

__attribute__((format(printf, 4, 5))) static inline int
th_check(int ok, const char *file, int line, const char *fmt, ...) {
  va_list ap;
  printf("%s %d - ", ok ? "ok" : "not ok", ++th_run);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  if (!ok) {
    th_failed++;
    printf("# %s:%d\n", file, line);
  }
  fflush(stdout);
  return ok;
}

#define CHECK(cond, ...) th_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define CHECK_INT(got, want, ...)                                                 \
  do {                                                                            \
    long long th_g = (long long)(got), th_w = (long long)(want);                  \
    if (!CHECK(th_g == th_w, __VA_ARGS__))                                        \
      printf("#   got %lld, want %lld\n", th_g, th_w);                            \
  } while (0)

#define CHECK_STR(got, want, ...)                                                 \
  do {                                                                            \
    const char *th_gs = (got), *th_ws = (want);                                   \
    if (!CHECK(th_gs && strcmp(th_gs, th_ws) == 0, __VA_ARGS__))                  \
      printf("#   got  \"%s\"\n#   want \"%s\"\n", th_gs ? th_gs : "(null)", th_ws); \
  } while (0)

static inline int test_done(void) {
  printf("1..%d\n# %d passed, %d failed\n", th_run, th_run - th_failed, th_failed);
  return th_failed ? 1 : 0;
}

#endif /* IMP_TEST_HARNESS_H */
