from django.urls import path

from collaboration import views

app_name = "collaboration"

urlpatterns = [
    path("", views.home, name="home"),
    path("purchase-orders/", views.purchase_order_list, name="purchase-order-list"),
    path("purchase-orders/<str:number>/", views.purchase_order_detail, name="purchase-order-detail"),
    path("purchase-orders/<str:number>/accept/", views.purchase_order_accept, name="purchase-order-accept"),
]
