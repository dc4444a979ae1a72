from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_user_prefs_actions_reports')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='OrderRecord',
            index=Index(fields=['mode', 'account', 'create_time_ns', 'id']),
        ),
    ]
