from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_retention_indexes')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='OcoGroupRecord',
            index=Index(fields=['mode', 'account', 'state']),
        ),
    ]
