/*
 * The dispatch of plan operations. The table is generated from the one declaration of the
 * operations, src/native/ops.ts, into build/ops.gen.h (scripts/gen-ops.mjs, run by `npm run
 * build`): name, side, field counts and handler. A plan is checked against it as it is read, so
 * an unknown operation or a message with the wrong number of fields fails before anything was
 * done, and each handler finds its fields present.
 */
#include "helper.h"
#include <stdio.h>
#include <string.h>

static const struct op_def table[] = { OP_TABLE_ROWS };

/* The operation being run, for error messages ("error" <op> <errno> <text>); "" outside one. */
const char *g_op = "";

const struct op_def *op_find(const char *name)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

void op_check(const struct msg *m)
{
	const struct op_def *d = op_find(m->f[0]);
	if (!d)
		die("unknown op %s", m->f[0]);
	size_t n = m->n - 1;
	if (n >= (size_t)d->min && (d->max < 0 || n <= (size_t)d->max))
		return;
	if (d->max < 0)
		die("%s: expected at least %d fields, got %zu", d->name, d->min, n);
	if (d->max == d->min)
		die("%s: expected %d fields, got %zu", d->name, d->min, n);
	die("%s: expected %d to %d fields, got %zu", d->name, d->min, d->max, n);
}

void op_run(struct plan *p, struct msg *m, int side)
{
	const struct op_def *d = op_find(m->f[0]);
	if (!d)
		die("unknown op %s", m->f[0]);
	if (!(d->side & side))
		die("%s: not a %s op (%s)", d->name, side == OP_PARENT ? "parent" : "child",
		    side == OP_PARENT ? "expected after clone" : "expected before clone");
	g_op = d->name;
	d->run(p, m);
	g_op = "";
}

/* `berth-helper --ops`: the table compiled in, one line per operation (test/unit/native-ops.test.ts). */
int main_list_ops(void)
{
	static const char *sides[] = { "", "parent", "child", "either" };
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		printf("%s %s %d %d\n", table[i].name, sides[table[i].side], table[i].min, table[i].max);
	return 0;
}
