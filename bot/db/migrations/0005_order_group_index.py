from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_reason_keys')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='OrderRecord',
            index=Index(fields=['oco_group_id']),
        ),
    ]
