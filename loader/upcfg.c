// SPDX-License-Identifier: GPL-2.0
/*
 * upcfg.c - defaults and reporting shared by "xkv up" and "xkv attach".
 */
#include <stdio.h>
#include <string.h>

#include "xkv_hot.h"
#include "xkv_config.h"
#include "iface.h"
#include "log.h"
#include "tcpfast.h"
#include "upcfg.h"

const struct xkv_param_name xkv_mode_names[] = {
	{ "native", XKV_MODE_NATIVE },
	{ "generic", XKV_MODE_GENERIC },
	{ NULL, 0 },
};

const struct xkv_param_name xkv_tcpf_names[] = {
	{ "on", XKV_TCPF_ON },
	{ "off", XKV_TCPF_OFF },
	{ NULL, 0 },
};

void xkv_up_cfg_init(struct xkv_up_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = 11211;
	cfg->slots = XKV_HOT_SLOTS_DEFAULT;
	cfg->max_reply = XKV_UDP_PAYLOAD_DEFAULT;
	/*
	 * UDP amplification: a spoofed 32-byte get may draw at most 2 KiB
	 * (the 1400-byte datagram cap usually bites first); 0 turns it off.
	 */
	cfg->amp_ratio = 64;
	cfg->backend = XKV_BACKEND_AUTO;
	cfg->wait = 10;
	cfg->learn_ttl = XKV_UP_UNSET;
	cfg->learn_quiet = XKV_UP_UNSET;
}

void xkv_up_cfg_inst_opts(const struct xkv_up_cfg *cfg, const char *ifname,
			  struct xkv_inst_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->xdp.port = cfg->port;
	o->xdp.nslots = cfg->slots;
	o->xdp.max_reply = cfg->max_reply;
	o->xdp.amp_ratio = cfg->amp_ratio;
	o->xdp.mode = cfg->mode;
	if (!o->xdp.mode)
		o->xdp.mode = strcmp(ifname, "lo") ? XKV_MODE_NATIVE :
						     XKV_MODE_GENERIC;
	/* local senders' offloaded sums on lo and veth, complete ones else */
	if (xkv_iface_csum_partial(ifname))
		o->xdp.flags |= XKV_CFG_CSUM_PARTIAL;
	/*
	 * Generic XDP sets the skb's end from a tail resize as if the frame
	 * began at the network header (L2 header's length too far: the TCP
	 * reply went out wrong in the VM on lo): resize TCP replies at the
	 * head, which generic mode always has 256 bytes of.
	 */
	if (o->xdp.mode == XKV_MODE_GENERIC)
		xkv_xdp_opts_generic(&o->xdp);
	o->allow = cfg->allow;
	o->tcp_fast = cfg->tcp_fast;
	if (cfg->tcp_fast != XKV_TCPF_OFF)
		o->xdp.tcp_port = cfg->port;
}

void xkv_up_report(const struct xkv_inst *inst,
		   const struct xkv_inst_opts *o)
{
	const char *ifname = inst->paths.ifname;
	char line[1024], buf[XKV_PREFIX_STRLEN];
	size_t n = 0;
	unsigned int i;

	pr_info("%s: loaded XDP program (id %u): UDP port %u, %u hot slots (%llu MiB), max reply %u B, amp ratio %u%s\n",
		ifname, inst->prog_id, o->xdp.port, o->xdp.nslots,
		(unsigned long long)o->xdp.nslots * XKV_HOT_SLOT_SIZE >> 20,
		o->xdp.max_reply, o->xdp.amp_ratio,
		o->xdp.amp_ratio ? "" : " (none)");
	pr_info("%s: pinned maps, program and link in %s\n", ifname,
		inst->paths.pin_dir);
	line[0] = '\0';
	for (i = 0; i < inst->nallow && n < sizeof(line) - 64; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s",
				      i ? " " : "",
				      xkv_prefix_format(&inst->allow[i], buf));
	if (inst->nallow)
		pr_info("%s: XDP answers sources in: %s\n", ifname, line);
	else
		pr_warn("%s: the allowlist is empty: XDP answers nobody until 'xkv allow %s add PREFIX'\n",
			ifname, ifname);
	pr_info("%s: XDP attached in %s mode\n", ifname,
		xkv_mode_name(inst->mode));
	if (inst->tcp_fast)
		pr_info("%s: TCP fast path on, port %u: TC filters on clsact ingress and egress translate the connections XDP answers on; XDP answers hot GETs only on connections whose backend has answered everything before ('xkv tcp-fast %s off' stops it)\n",
			ifname, o->xdp.tcp_port, ifname);
	else if (!inst->tcp_why)
		pr_info("%s: TCP fast path off: XDP answers UDP only\n",
			ifname);
}
