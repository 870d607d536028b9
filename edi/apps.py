from django.apps import AppConfig


class EdiConfig(AppConfig):
    name = "edi"
    verbose_name = "EDIFACT"

    def ready(self) -> None:
        from collaboration.signals import purchase_orders_published
        from edi.outbound import queue_purchase_orders

        purchase_orders_published.connect(queue_purchase_orders, dispatch_uid="edi-queue-purchase-orders")
