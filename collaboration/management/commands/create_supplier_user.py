"""Create (or update) a supplier user with a role; creates the supplier only when --name is given."""
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from collaboration.models import Membership, Supplier


class Command(BaseCommand):
    help = "Create a supplier user with a role (admin, sales, logistics, quality)."

    def add_arguments(self, parser):
        parser.add_argument("--supplier", required=True, help="Supplier code.")
        parser.add_argument("--email", required=True, help="The user's e-mail, also the login name.")
        parser.add_argument("--role", required=True, choices=Membership.Role.values)
        parser.add_argument("--password", help="Initial password; without it the user sets one via password reset.")
        parser.add_argument("--name", help="Supplier name: creates the supplier if it does not exist yet.")

    def handle(self, *args, supplier: str, email: str, role: str, password: str | None, name: str | None, **options):
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not a valid e-mail address.") from None
        User = get_user_model()
        with transaction.atomic():
            supplier_obj = Supplier.objects.filter(code=supplier).first()
            if supplier_obj is None:
                if not name:
                    raise CommandError(f"Supplier {supplier!r} does not exist; pass --name to create it.")
                supplier_obj = Supplier.objects.create(code=supplier, name=name)
                self.stdout.write(f"Created supplier {supplier_obj}.")
            user, created = User.objects.get_or_create(username=email, defaults={"email": email})
            if password:
                try:
                    validate_password(password, user)
                except ValidationError as error:
                    raise CommandError("Password rejected: " + " ".join(error.messages)) from None
                user.set_password(password)
                user.save()
            elif created:
                user.set_unusable_password()
                user.save()
            Membership.objects.update_or_create(user=user, supplier=supplier_obj, defaults={"role": role})
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} user {email} as {role} of {supplier_obj.code}."))
