"""The JSON half of assume_identity (see that script): standard library only.

Reads the identity secret (the SecretString of the Secrets Manager secret named by IDENTITY) on
stdin and:

1. checks it is a JSON object whose keys can be environment variable names;
2. renders production.ini from the ini template the secret's ENV_NAME picks;
3. writes the session secret file the ini names (from SESSION_SECRET if the secret has it);
4. prints `export NAME='value'` lines for the caller to eval.

Every failure is one line on stderr, prefixed `assume_identity:`, and exit status 1. Secret
values are never printed in messages.

Template syntax: `${NAME}` is required: if NAME is unset or empty (in the secret and in the
environment) nothing is written and the container stops, because a half-filled sqlalchemy.url
or a missing bucket fails much later and much less clearly. `${NAME:-default}` falls back to
the default. A line whose whole value is `${NAME:-}` is left out when NAME is unset or empty,
so the default in the app's base.ini applies (optional settings such as sentry_dsn).
"""

import argparse
import base64
import json
import os
import re
import sys

PROG = "assume_identity"
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
OPTIONAL_LINE = re.compile(r"^\s*[^=#;\s][^=]*=\s*\$\{([A-Za-z_][A-Za-z0-9_]*):-\}\s*$")
# Set by the task definition or the image: the secret may not override them. CGAP_ENVIRONMENT
# above all: it decides whether the deployment role may wipe the database.
PROTECTED = ("IDENTITY", "CGAP_ENVIRONMENT", "INDEXER_INTERVAL_SECONDS", "APP_HOME", "IMAGE_DIR",
             "APP_VERSION", "PATH", "HOME", "VIRTUAL_ENV")
TEMPLATE_PREFIXES = ("cgap-", "fourfront-")


class Failure(Exception):
    pass


def log(message):
    print("%s: %s" % (PROG, message), file=sys.stderr)


def parse_secret(text, secret_name):
    try:
        value = json.loads(text)
    except ValueError as error:
        # The decoder's message names a position, never the content.
        raise Failure("secret %r is not valid JSON (%s); it must be a JSON object of settings"
                      % (secret_name, error))
    if not isinstance(value, dict):
        raise Failure("secret %r is JSON but not a JSON object (got %s); it must map setting names to values"
                      % (secret_name, type(value).__name__))
    settings = {}
    for key in sorted(value):
        if not NAME.match(key):
            raise Failure("secret %r has key %r, which is not a valid environment variable name"
                          % (secret_name, key))
        item = value[key]
        if isinstance(item, (dict, list)):
            raise Failure("secret %r key %s holds a JSON %s; values must be strings, numbers or booleans"
                          % (secret_name, key, "object" if isinstance(item, dict) else "array"))
        if item is None:
            item = ""
        elif isinstance(item, bool):
            item = "true" if item else "false"
        elif not isinstance(item, str):
            item = json.dumps(item)
        settings[key] = item
    return settings


def pick_template(template_dir, env_name):
    names = [env_name + ".ini"]
    for prefix in TEMPLATE_PREFIXES:
        if env_name.startswith(prefix):
            names.append(env_name[len(prefix):] + ".ini")
    names.append("any.ini")
    for name in names:
        path = os.path.join(template_dir, name)
        if os.path.isfile(path):
            return path
    raise Failure("no ini template for ENV_NAME %r in %s (looked for %s)"
                  % (env_name, template_dir, ", ".join(names)))


def render(template_text, values, template_name):
    lines = []
    missing = []
    bad = []
    for number, line in enumerate(template_text.splitlines(), start=1):
        if line.lstrip().startswith(("#", ";")):
            lines.append(line)  # comments are copied, never expanded
            continue
        optional = OPTIONAL_LINE.match(line)
        if optional and not values.get(optional.group(1)):
            continue

        def substitute(match, number=number):
            name, default = match.group(1), match.group(2)
            if values.get(name):
                if "\n" in values[name] or "\r" in values[name]:
                    bad.append("%s (line %d)" % (name, number))
                # PasteDeploy reads the ini with %-interpolation: a literal % must be doubled.
                return values[name].replace("%", "%%")
            if default is not None:
                return default
            missing.append("%s (line %d)" % (name, number))
            return ""

        lines.append(REFERENCE.sub(substitute, line))
    if bad:
        raise Failure("ini template %s: these settings hold a line break, which an ini value cannot: %s"
                      % (template_name, ", ".join(bad)))
    if missing:
        raise Failure("ini template %s needs settings that neither the secret nor the environment defines: %s"
                      % (template_name, ", ".join(missing)))
    return "\n".join(lines) + "\n"


def write_private(path, text):
    """Write atomically, readable by the app user only: the ini holds the database password."""
    temporary = path + ".tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as stream:
        stream.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def shell_quote(value):
    return "'" + value.replace("'", "'\"'\"'") + "'"


def main(argv):
    parser = argparse.ArgumentParser(prog=PROG)
    parser.add_argument("--secret-name", required=True)
    parser.add_argument("--templates", required=True, help="directory holding the ini templates")
    parser.add_argument("--output", required=True, help="production.ini to write")
    parser.add_argument("--session-secret", required=True, help="session secret file to write")
    args = parser.parse_args(argv)

    settings = parse_secret(sys.stdin.read(), args.secret_name)
    for key in PROTECTED:
        if key in settings:
            log("ignoring key %s in secret %r: it is set by the task definition or the image"
                % (key, args.secret_name))
            del settings[key]

    env_name = settings.get("ENV_NAME", "")
    if not env_name:
        raise Failure("secret %r has no ENV_NAME; it names the environment and picks the ini template"
                      % args.secret_name)
    if not ENV_NAME.match(env_name):
        raise Failure("secret %r has ENV_NAME %r, which is not an environment name" % (args.secret_name, env_name))

    template = pick_template(args.templates, env_name)
    values = dict(os.environ)
    values.update(settings)
    with open(template) as stream:
        text = render(stream.read(), values, os.path.basename(template))
    write_private(args.output, text)
    log("rendered %s from ini template %s for ENV_NAME %s"
        % (args.output, os.path.basename(template), env_name))

    if settings.get("SESSION_SECRET"):
        write_private(args.session_secret, settings["SESSION_SECRET"] + "\n")
    else:
        # Without a shared secret every container signs sessions with its own key.
        write_private(args.session_secret, base64.b64encode(os.urandom(256)).decode("ascii") + "\n")
        log("secret %r has no SESSION_SECRET: this container uses a random session secret of its own"
            % args.secret_name)

    for key in sorted(settings):
        print("export %s=%s" % (key, shell_quote(settings[key])))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Failure as failure:
        log(str(failure))
        sys.exit(1)
    except OSError as error:
        log("%s: %s" % (error.strerror, error.filename))
        sys.exit(1)
