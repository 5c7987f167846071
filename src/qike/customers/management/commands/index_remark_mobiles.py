from django.core.management.base import BaseCommand

from qike.customers.mobiles import rebuild_index


class Command(BaseCommand):
    help = (
        "Rebuild the keyed-hash index of customers' remark mobiles (run after changing "
        "QIKE_SECRET_KEY; the migration filled it once)."
    )

    def handle(self, *args, **options):
        seen = rebuild_index()
        self.stdout.write(f"indexed the remark mobiles of {seen} follow relations")
