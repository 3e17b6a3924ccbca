// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_allow.c - "xkv allow": show or change the sources XDP answers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "allow.h"
#include "cmds.h"
#include "json.h"
#include "log.h"
#include "paths.h"

struct allow_cfg {
	bool json;
	bool pretty;
};

static const struct xkv_param allow_params[] = {
	XKV_PARAM_BOOL("json", 'j', struct allow_cfg, json,
		       "list: print a JSON array of prefixes"),
	XKV_PARAM_BOOL("pretty", 'p', struct allow_cfg, pretty,
		       "indent the JSON"),
	XKV_PARAM_END,
};

static const struct xkv_cmd_doc allow_doc = {
	.usage = "[IFACE] list|add PREFIX|del PREFIX|any|none",
	.summary =
		"Show or change the source allowlist of IFACE (default: the one\n"
		"interface xkv is up on). XDP answers only sources in it and passes\n"
		"the rest to the backend (counted as pass_not_allowed).\n"
		"  list          print the prefixes\n"
		"  add PREFIX    allow ADDR[/LEN] (IPv4 or IPv6)\n"
		"  del PREFIX    remove a prefix exactly as listed\n"
		"  any           allow every source (0.0.0.0/0 and ::/0)\n"
		"  none          remove every prefix: XDP answers nobody",
};

static bool is_verb(const char *s)
{
	static const char *const verbs[] = { "list", "add", "del", "any",
					     "none", NULL };
	int i;

	for (i = 0; verbs[i]; i++) {
		if (!strcmp(s, verbs[i]))
			return true;
	}
	return false;
}

struct list_ctx {
	const struct allow_cfg *cfg;
	struct xkv_json j;
	int n;
};

static int list_one(const struct xkv_prefix *pfx, void *data)
{
	struct list_ctx *c = data;
	char buf[XKV_PREFIX_STRLEN];

	xkv_prefix_format(pfx, buf);
	if (c->cfg->json)
		xkv_json_str(&c->j, buf);
	else
		printf("%s\n", buf);
	c->n++;
	return 0;
}

static int do_list(const struct allow_cfg *cfg, const struct xkv_allow *a)
{
	struct list_ctx c = { .cfg = cfg };
	int err;

	if (cfg->json) {
		xkv_json_init(&c.j, stdout, cfg->pretty);
		xkv_json_open(&c.j, '[');
	}
	err = xkv_allow_walk(a, list_one, &c);
	if (cfg->json)
		xkv_json_close(&c.j, ']');
	return err;
}

static int add_cb(const struct xkv_prefix *pfx, void *data)
{
	return xkv_allow_add(data, pfx);
}

static int do_change(const char *ifname, const char *verb,
		     const char *arg, const struct xkv_allow *a)
{
	char buf[XKV_PREFIX_STRLEN];
	struct xkv_prefix pfx;
	int err;

	if (!strcmp(verb, "any")) {
		err = xkv_allow_any(add_cb, (void *)a);
		if (!err)
			pr_info("%s: XDP answers any source\n", ifname);
		return err;
	}
	if (!strcmp(verb, "none")) {
		err = xkv_allow_clear(a);
		if (!err)
			pr_info("%s: allowlist emptied: XDP answers nobody\n",
				ifname);
		return err;
	}
	if (xkv_prefix_parse(arg, &pfx)) {
		pr_warn("allow: '%s' is not an address or prefix\n", arg);
		return -EINVAL;
	}
	xkv_prefix_format(&pfx, buf);
	if (!strcmp(verb, "add")) {
		err = xkv_allow_add(a, &pfx);
		if (!err)
			pr_info("%s: allowed %s\n", ifname, buf);
		return err;
	}
	err = xkv_allow_del(a, &pfx);
	if (err == -ENOENT)
		pr_warn("%s: %s is not in the allowlist ('xkv allow %s list')\n",
			ifname, buf, ifname);
	else if (!err)
		pr_info("%s: removed %s\n", ifname, buf);
	return err;
}

int xkv_cmd_allow(int argc, char **argv)
{
	struct allow_cfg cfg = { 0 };
	const char *verb, *arg = NULL;
	char ifname[IF_NAMESIZE];
	struct xkv_args args;
	struct xkv_allow a;
	struct xkv_paths p;
	int err, i = 0, want;

	err = xkv_params_parse("allow", allow_params, &allow_doc, &cfg, argc,
			       argv, &args);
	if (err)
		return xkv_params_exit(err);
	if (args.argc && !is_verb(args.argv[0]))
		i++;
	if (xkv_iface_arg(i ? args.argv[0] : NULL, ifname))
		return XKV_EXIT_USAGE;
	if (i >= args.argc || !is_verb(args.argv[i])) {
		pr_warn("allow: say list, add, del, any or none; see 'xkv allow --help'\n");
		return XKV_EXIT_USAGE;
	}
	verb = args.argv[i++];
	want = !strcmp(verb, "add") || !strcmp(verb, "del");
	if (want && i < args.argc)
		arg = args.argv[i++];
	if ((want && !arg) || i != args.argc || args.rest_argc >= 0) {
		pr_warn("allow: %s takes %s\n", verb,
			want ? "one PREFIX" : "no argument");
		return XKV_EXIT_USAGE;
	}
	err = xkv_paths_up(&p, ifname);
	if (err)
		return err == -ENOENT ? XKV_EXIT_FAIL : XKV_EXIT_USAGE;
	if (xkv_allow_open(p.pin_dir, &a))
		return XKV_EXIT_FAIL;
	if (!strcmp(verb, "list"))
		err = do_list(&cfg, &a);
	else
		err = do_change(ifname, verb, arg, &a);
	xkv_allow_close(&a);
	if (err && err != -ENOENT && err != -EINVAL)
		pr_warn("%s: allow %s: %s\n", ifname, verb, strerror(-err));
	return err ? XKV_EXIT_FAIL : XKV_EXIT_OK;
}
