/*
 * model/problem_table.h: the model's store of problems (model/problem.h),
 * kept apart from model.c so the records' rules live in one file. Only the
 * model uses it; everyone else goes through sw_model_problem_*.
 */
#ifndef SW_MODEL_PROBLEM_TABLE_H
#define SW_MODEL_PROBLEM_TABLE_H

#include "model/problem.h"

typedef struct sw_problem_table {
    sw_problem *rows;   /* SW_MODEL_MAX_PROBLEMS, allocated by the model */
    size_t n;
} sw_problem_table;

/* The row for (kind, source, subject), NULL when none. */
sw_problem *sw_problem_table_find(const sw_problem_table *t, sw_problem_kind kind, const char *source,
                                  const char *subject);
/*
 * Raise: *changed says whether anything a sink shows moved. The row is
 * returned (NULL with SW_ERR_NO_SPACE when every row is active).
 */
sw_err sw_problem_table_raise(sw_problem_table *t, sw_problem_kind kind, const char *source, const char *subject,
                              const char *name, const char *reason, int64_t now_ns, sw_problem **row,
                              bool *changed);
/* Clear: *row is the cleared row, NULL when there was nothing active. */
void sw_problem_table_clear(sw_problem_table *t, sw_problem_kind kind, const char *source, const char *subject,
                            int64_t now_ns, sw_problem **row);
size_t sw_problem_table_active(const sw_problem_table *t);

#endif
