/* ctl_parse and ctl_name_check: the control socket's requests and the
 * ctl_names --name takes (docs/control.md). */
#include <string.h>

#include "ctl/ctl.h"
#include "unit.h"

static struct ctl_req req;
static char err[160];

/* Parses s (a C string, so NUL-terminated as ctl_parse wants). */
static int parse(const char *s)
{
	memset(&req, 0xa5, sizeof(req));
	err[0] = 0;
	return ctl_parse(s, strlen(s), &req, err, sizeof(err));
}

static void ctl_requests(void)
{
	CHECK(parse("{\"cmd\":\"info\"}") == 0 && req.cmd == CTL_INFO);
	CHECK(parse("{\"cmd\":\"pause\"}") == 0 && req.cmd == CTL_PAUSE);
	CHECK(parse("{\"cmd\":\"resume\"}") == 0 && req.cmd == CTL_RESUME);
	CHECK(parse("{\"cmd\":\"stats\"}") == 0 && req.cmd == CTL_STATS);
	CHECK(parse(" {\"cmd\":\"stop\"} \r") == 0 && req.cmd == CTL_STOP &&
	      !req.force);
	CHECK(parse("{\"cmd\":\"stop\",\"force\":true}") == 0 && req.force);
	CHECK(parse("{\"cmd\":\"snapshot\",\"stop\":true}") == 0 &&
	      req.cmd == CTL_SNAPSHOT && req.stop && !req.force);
	/* Fields it does not know are left for later versions. */
	CHECK(parse("{\"cmd\":\"info\",\"x\":[1,{}]}") == 0);
	CHECK(parse("{\"cmd\":\"signal\",\"signal\":15}") == 0 &&
	      req.cmd == CTL_SIGNAL && req.sig == 15);
	CHECK(parse("{\"cmd\":\"signal\",\"signal\":64}") == 0 &&
	      req.sig == 64);
	CHECK(parse("{\"cmd\":\"migrated\",\"to\":\"10.0.0.2:7000\"}") == 0 &&
	      req.cmd == CTL_MIGRATED && !strcmp(req.to, "10.0.0.2:7000"));
	CHECK(parse("{\"cmd\":\"precopy\"}") == 0 && req.cmd == CTL_PRECOPY &&
	      !req.end);
	CHECK(parse("{\"cmd\":\"precopy\",\"end\":true}") == 0 && req.end);
	CHECK(parse("{\"cmd\":\"snapshot\",\"stream\":true}") == 0 &&
	      req.cmd == CTL_SNAPSHOT && req.stream && !req.stop);
}

static void ctl_bad_requests(void)
{
	CHECK(parse("") < 0 && !strcmp(err, "invalid JSON"));
	CHECK(parse("garbage") < 0 && !strcmp(err, "invalid JSON"));
	CHECK(parse("{\"cmd\":\"info\"} x") < 0 &&
	      !strcmp(err, "invalid JSON"));
	CHECK(parse("{\"cmd\":\"info\"}{}") < 0);
	CHECK(parse("{\"cmd\":") < 0);
	CHECK(parse("\"info\"") < 0 &&
	      !strcmp(err, "a request is a JSON object"));
	CHECK(parse("{}") < 0 && !strcmp(err, "\"cmd\" must be a string"));
	CHECK(parse("{\"cmd\":null}") < 0);
	CHECK(parse("{\"cmd\":\"INFO\"}") < 0 &&
	      !strncmp(err, "unknown command \"INFO\"", 22));
	CHECK(parse("{\"cmd\":\"stop\",\"force\":1}") < 0 &&
	      !strcmp(err, "\"force\" must be true or false"));
	CHECK(parse("{\"cmd\":\"snapshot\",\"stop\":\"no\"}") < 0);
	CHECK(parse("{\"cmd\":\"snapshot\",\"stream\":1}") < 0 &&
	      !strcmp(err, "\"stream\" must be true or false"));
	CHECK(parse("{\"cmd\":\"precopy\",\"end\":null}") < 0);
	CHECK(parse("{\"cmd\":\"signal\"}") < 0 &&
	      !strcmp(err, "\"signal\" must be a signal number from 1 to 64"));
	CHECK(parse("{\"cmd\":\"signal\",\"signal\":0}") < 0);
	CHECK(parse("{\"cmd\":\"signal\",\"signal\":65}") < 0);
	CHECK(parse("{\"cmd\":\"signal\",\"signal\":1.5}") < 0);
	CHECK(parse("{\"cmd\":\"signal\",\"signal\":\"TERM\"}") < 0);
	/* migrated's "to": required, printable, shorter than 128 bytes. */
	CHECK(parse("{\"cmd\":\"migrated\"}") < 0 &&
	      !strncmp(err, "\"to\" must be", 12));
	CHECK(parse("{\"cmd\":\"migrated\",\"to\":7000}") < 0);
	CHECK(parse("{\"cmd\":\"migrated\",\"to\":\"\"}") < 0);
	CHECK(parse("{\"cmd\":\"migrated\",\"to\":\"a b\"}") < 0);
	CHECK(parse("{\"cmd\":\"migrated\",\"to\":\"\\n\"}") < 0);
	char long_to[200];
	snprintf(long_to, sizeof(long_to),
		 "{\"cmd\":\"migrated\",\"to\":\"%0128d\"}", 1);
	CHECK(parse(long_to) < 0);
	/* A NUL inside the line would hide what follows from cJSON. */
	const char nul[] = "{\"cmd\":\"info\"}\0junk";
	CHECK(ctl_parse(nul, sizeof(nul) - 1, &req, err, sizeof(err)) < 0);
}

static void ctl_names(void)
{
	char e[96];
	CHECK(ctl_name_check("web-1", e, sizeof(e)) == 0);
	CHECK(ctl_name_check("a.b_C-9", e, sizeof(e)) == 0);
	CHECK(ctl_name_check("0123456789abcdef0123456789abcdef0123456789abcdef"
			     "0123456789abcdef",
			     e, sizeof(e)) == 0);
	CHECK(ctl_name_check("0123456789abcdef0123456789abcdef0123456789abcdef"
			     "0123456789abcdefX",
			     e, sizeof(e)) < 0);
	CHECK(ctl_name_check("", e, sizeof(e)) < 0);
	CHECK(ctl_name_check(".", e, sizeof(e)) < 0);
	CHECK(ctl_name_check("..", e, sizeof(e)) < 0);
	CHECK(ctl_name_check(".new-1", e, sizeof(e)) < 0);
	CHECK(ctl_name_check("a/b", e, sizeof(e)) < 0);
	CHECK(ctl_name_check("a b", e, sizeof(e)) < 0);
	CHECK(ctl_name_check("é", e, sizeof(e)) < 0);
}

static void cases(void)
{
	RUN(ctl_requests);
	RUN(ctl_bad_requests);
	RUN(ctl_names);
}

int main(void)
{
	return unit_main(cases, NULL);
}
