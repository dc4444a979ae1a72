from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_order_time_index')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='OrderRecord',
            index=Index(fields=['oco_group_id']),
        ),
    ]
