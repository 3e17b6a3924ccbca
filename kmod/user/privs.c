// SPDX-License-Identifier: GPL-2.0
/*
 * privs.c - xkvd gives up root, as memcached does with -u USER.
 *
 * Started as root with -u USER, xkvd opens what needs root first (the
 * listening sockets, which may be on a port below 1024; the pinned XDP
 * hot cache, readable by root only; the open file limit), then becomes
 * USER for good: no supplementary groups, USER's group, USER's uid (real,
 * effective and saved), before any thread that reads the network starts.
 * Started as root without -u it keeps root and says so once on stderr
 * (memcached refuses to start then; xkvd warns, so that existing command
 * lines keep working). Started as another user, -u is ignored, as
 * memcached ignores it.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xkvd.h"

/* -u USER, or NULL (settings.c) */
const char *xkvd_user;

/**
 * xkvd_drop_root() - become xkvd_user if running as root.
 *
 * Return: 0 (also when there is nothing to do), or a sysexits status
 * after printing why: XKVD_EX_NOUSER when USER does not exist,
 * XKVD_EX_OSERR when a step fails.
 */
int xkvd_drop_root(void)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if (!xkvd_user || !*xkvd_user) {
		fprintf(stderr,
			"xkvd: warning: running as root: -u USER makes xkvd drop root once its sockets are open\n");
		return 0;
	}
	errno = 0;
	pw = getpwnam(xkvd_user);
	if (!pw) {
		fprintf(stderr, "xkvd: can't find the user %s to switch to\n",
			xkvd_user);
		return XKVD_EX_NOUSER;
	}
	if (setgroups(0, NULL)) {
		fprintf(stderr,
			"xkvd: failed to drop supplementary groups: %s\n",
			strerror(errno));
		return XKVD_EX_OSERR;
	}
	if (setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
		fprintf(stderr,
			"xkvd: failed to assume identity of user %s: %s\n",
			xkvd_user, strerror(errno));
		return XKVD_EX_OSERR;
	}
	/* a uid other than 0 must not be able to get root back */
	if (pw->pw_uid && (!setuid(0) || geteuid() != pw->pw_uid)) {
		fprintf(stderr, "xkvd: still root after becoming %s\n",
			xkvd_user);
		return XKVD_EX_OSERR;
	}
	return 0;
}
