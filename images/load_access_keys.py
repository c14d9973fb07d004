"""The deployment task's last step: cgap-portal's `load-access-keys`, told the portal's URL.

cgap-portal v15.6.0 src/encoded/commands/load_access_keys.py (the `load-access-keys` entry point
of its pyproject.toml) stores, with each access key it makes, the URL of the portal the key is
for. It asks dcicutils 8.16.1 cloudformation_utils.get_ecs_real_url, which looks for an output
`ECSApplicationURL<env>` of a CloudFormation stack named `c4-*` (4dn-cloud-infra's ECS stack), and
when that fails env_utils.get_env_real_url, which looks the env up in the ecosystem file's
public_url_table and raises when it is not there. This stack is not a CloudFormation stack, and
reading every stack's outputs would need cloudformation:DescribeStacks on `*`. The stack knows
the URL (its load balancer), passes it as CGAP_PORTAL_URL, and this wrapper hands it to the
command in place of the CloudFormation lookup. Arguments are the command's own.
"""

import os
import sys

PROG = "load-access-keys"


def fail(message):
    print("%s: %s" % (PROG, message), file=sys.stderr)
    return 1


def main(argv):
    url = os.environ.get("CGAP_PORTAL_URL", "")
    if not url.startswith(("https://", "http://")):
        return fail("CGAP_PORTAL_URL is %r; the task definition must pass the portal's URL (http(s)://...), "
                    "which the access keys record" % url)
    from encoded.commands import load_access_keys as command
    if not callable(getattr(command, "get_ecs_real_url", None)):
        return fail("encoded.commands.load_access_keys has no get_ecs_real_url: this app version finds the "
                    "portal URL some other way; read its load_access_keys.py and update images/load_access_keys.py")
    command.get_ecs_real_url = lambda env: url
    sys.argv = [PROG] + argv
    print("%s: the access keys name the portal %s" % (PROG, url), file=sys.stderr)
    return command.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
