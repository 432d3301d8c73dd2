#!/usr/bin/env bash
# Creates the demo superuser, or puts it back as printed (staff, superuser, active, the demo password).
# The password is fixed and printed on purpose: this is for a developer's machine, never production.
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
load_env
require_venv

case "${DJANGO_SETTINGS_MODULE:-}" in
*prod*) die "superuser: refusing to create a demo superuser with DJANGO_SETTINGS_MODULE=$DJANGO_SETTINGS_MODULE" ;;
esac

outcome="$(manage shell --no-imports -c '
import os

from django.contrib.auth import get_user_model

User = get_user_model()
name, password = os.environ["DEMO_ADMIN_USER"], os.environ["DEMO_ADMIN_PASSWORD"]
user, created = User.objects.get_or_create(**{User.USERNAME_FIELD: name})
as_printed = user.is_active and user.is_staff and user.is_superuser and user.check_password(password)
if not as_printed:
    user.is_active = user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
# A demo account locked by mistyped passwords (django-axes) is unlocked with it.
from axes.utils import reset as axes_reset

axes_reset(username=name)
# The second factor (django-otp, config/admin_site.py): one TOTP device, kept across runs; its otpauth:// URL
# goes to var/demo_totp.txt for an authenticator app (dev only: this script refuses the production settings).
from django_otp.plugins.otp_totp.models import TOTPDevice

device = TOTPDevice.objects.filter(user=user, name="demo").first() or TOTPDevice.objects.create(
    user=user, name="demo", confirmed=True
)
os.makedirs("var", exist_ok=True)
with open("var/demo_totp.txt", "w") as url_file:
    url_file.write(device.config_url + "\n")
print("created" if created else "unchanged" if as_printed else "reset to the demo password")
')"
log "superuser: $DEMO_ADMIN_USER / $DEMO_ADMIN_PASSWORD ($outcome)"
log "superuser: staff sign in with a TOTP code too: add var/demo_totp.txt (an otpauth:// URL) to an authenticator" \
    "app, or put OTP_REQUIRED=False in .env to skip the second factor on this development machine"
