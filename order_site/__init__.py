"""CoffeeShop.Order: menu, orders, payments and events."""
