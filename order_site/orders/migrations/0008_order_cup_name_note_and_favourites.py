"""A name for the cup and a note for the barista on each order, and a customer's saved
drinks ("my usual"), at most one per drink (issue 17)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('menu', '0003_option_allergens'),
        ('orders', '0007_order_search_by_number'),
    ]

    operations = [
        migrations.AddField(
            model_name='order',
            name='cup_name',
            field=models.CharField(blank=True, default='', max_length=20),
        ),
        migrations.AddField(
            model_name='order',
            name='note',
            field=models.CharField(blank=True, default='', max_length=140),
        ),
        migrations.CreateModel(
            name='Favourite',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('customer_id', models.BigIntegerField()),
                ('name', models.CharField(blank=True, default='', max_length=40)),
                ('option_ids', models.JSONField(blank=True, default=list)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('product', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='menu.product')),
                ('variation', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='menu.variation')),
            ],
            options={
                'ordering': ('created_at', 'id'),
                'indexes': [models.Index(fields=['customer_id', 'created_at'], name='orders_favourites')],
                'constraints': [models.UniqueConstraint(fields=('customer_id', 'product', 'variation', 'option_ids'), name='orders_one_favourite_per_drink', nulls_distinct=False)],
            },
        ),
    ]
