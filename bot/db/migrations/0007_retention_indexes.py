from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_protection_tranches')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='IndicatorSnapshot',
            index=Index(fields=['computed_at']),
        ),
        ops.AddIndex(
            model_name='SignalRecord',
            index=Index(fields=['symbol', 'id']),
        ),
    ]
